import json

import pytest

from graphsmooth.cli import main


def test_curvature_cli_edge_list(tmp_path, capsys):
    f = tmp_path / "g.txt"
    f.write_text("# triangle with a leaf\n0 1\n1 2\n2 0\n2,3\n")
    png = tmp_path / "h.png"
    assert main(["curvature", "--edge-list", str(f), "--out", str(png), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["edges"] == 4
    assert stats["min"] == pytest.approx(0.0) and stats["max"] == pytest.approx(0.5)
    assert stats["mean"] == pytest.approx((0.5 + 1 / 3 + 1 / 3 + 0) / 4)
    assert png.stat().st_size > 1000


def test_curvature_cli_errors(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("0 x\n")
    with pytest.raises(ValueError, match="integers"):
        main(["curvature", "--edge-list", str(bad)])
    assert main(["curvature"]) == 2
