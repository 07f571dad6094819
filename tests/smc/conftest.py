import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    """The SMC tests run many small tensor ops: intra-op threads only add wake-up latency
    (severe on a shared 2-core CI box), so run them single-threaded and restore afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
