"""Runs one PyTorch twin on the cases a tfjs test wrote, and writes what the twin computed.

    python3 harness.py <twin module> <cases.json> <results.json>
    python3 harness.py --versions     (what the twins run on, as JSON)

cases.json is {"cases": [...]}: each case carries the tfjs model's initial weights, a
seeded batch and the settings, tensors as {"shape": [...], "data": [...]} (float32 values
written exactly: JSON numbers are doubles). The twin module (e.g. transformer_twin) has
run(case) -> dict; results.json is {"versions": {...}, "results": [one dict per case]}.

Every twin computes in float64 from the float32 numbers it is given, so what the tfjs
test measures is the rounding of OUR float32 computation alone, not the sum of two
roundings. One thread, so the twin's own numbers do not depend on the machine.
"""
import importlib
import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository

import numpy  # noqa: E402
import torch  # noqa: E402

import twinlib  # noqa: E402


def versions():
    cfg = torch.__config__.show()
    blas = next((p.split('=', 1)[1] for p in cfg.replace(',', ' ').split() if p.startswith('BLAS_INFO=')), 'unknown')
    return {
        'python': sys.version.split()[0],
        'torch': torch.__version__,
        'numpy': numpy.__version__,
        'torch_blas': blas,
        'threads': str(torch.get_num_threads()),
    }


def main(argv):
    torch.set_num_threads(1)
    if argv[1:] == ['--versions']:
        print(json.dumps(versions()))
        return
    if len(argv) != 4:
        sys.exit('usage: harness.py <twin module> <cases.json> <results.json>')
    module, cases_path, results_path = argv[1:]
    torch.set_default_dtype(torch.float64)
    twin = importlib.import_module(module)
    with open(cases_path) as f:
        cases = json.load(f)['cases']
    results = [twinlib.encode(twin.run(case)) for case in cases]
    with open(results_path, 'w') as f:
        json.dump({'versions': versions(), 'results': results}, f)


if __name__ == '__main__':
    main(sys.argv)
