"""PyTorch reference for bench/training-step.ts: the same attention + MLP training step
on ONE CPU thread, same shapes. Prints one JSON object on stdout.

Run by the TypeScript bench (python3 bench/torch_step.py --B 8 --T 128 ...); needs
Debian's python3-torch. Reports which BLAS ran, and for OpenBLAS the core kernel it chose
(OpenBLAS 0.3.21 does not know every CPU and then falls back to an older kernel; the
bench sets OPENBLAS_CORETYPE only in a separately labelled row).
"""
import ctypes
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)


def parse():
    p = argparse.ArgumentParser()
    for k, v in dict(B=8, T=128, D=128, heads=4, vocab=256, reps=5, warmup=2, mm=512).items():
        p.add_argument(f"--{k}", type=int, default=v)
    return p.parse_args()


def blas_libraries():
    """Shared BLAS libraries mapped into this process (Debian's torch uses whatever
    provides libblas.so.3: the netlib reference BLAS is ~50x slower than OpenBLAS)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                name = path.rsplit("/", 1)[-1]
                if "blas" in name or "mkl" in name or "blis" in name:
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def openblas_info(libs):
    """Core and build of the OpenBLAS mapped into this process (None without OpenBLAS)."""
    path = next((p for p in libs if "openblas" in p.rsplit("/", 1)[-1]), None)
    if path is None:
        return None
    info = {"library": path}
    try:
        lib = ctypes.CDLL(path)
        for name in ("openblas_get_corename", "openblas_get_config"):
            f = getattr(lib, name)
            f.restype = ctypes.c_char_p
            info[name.replace("openblas_get_", "")] = f().decode()
        lib.openblas_get_num_threads.restype = ctypes.c_int
        info["threads"] = lib.openblas_get_num_threads()
    except (OSError, AttributeError) as e:
        info["error"] = str(e)
    try:
        from threadpoolctl import threadpool_info
        info["threadpoolctl"] = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    except ImportError:
        pass
    return info


def main():
    a = parse()
    B, T, D, H, V = a.B, a.T, a.D, a.heads, a.vocab
    g = torch.Generator().manual_seed(1234)
    n = lambda *s, std=0.02: torch.nn.Parameter(torch.randn(*s, generator=g) * std)
    params = dict(
        emb=n(V, D), wqkv=n(D, 3 * D), wo=n(D, D), w1=n(D, 4 * D), b1=n(4 * D, std=0.0),
        w2=n(4 * D, D), b2=n(D, std=0.0), wout=n(D, V),
        ln1g=torch.nn.Parameter(torch.ones(D)), ln1b=n(D, std=0.0), ln2g=torch.nn.Parameter(torch.ones(D)),
        ln2b=n(D, std=0.0), lnfg=torch.nn.Parameter(torch.ones(D)), lnfb=n(D, std=0.0),
    )
    ids = torch.randint(0, V, (B, T + 1), generator=g)
    x_ids, y_ids = ids[:, :-1], ids[:, 1:]
    mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
    p = params

    def loss_fn():
        x = p["emb"][x_ids]
        h = F.layer_norm(x, (D,), p["ln1g"], p["ln1b"])
        qkv = (h.reshape(B * T, D) @ p["wqkv"]).reshape(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        s = q @ k.transpose(-1, -2) / math.sqrt(D // H) + mask
        o = (torch.softmax(s, -1) @ v).permute(0, 2, 1, 3).reshape(B * T, D)
        x = x + (o @ p["wo"]).reshape(B, T, D)
        h = F.layer_norm(x, (D,), p["ln2g"], p["ln2b"]).reshape(B * T, D)
        m = F.gelu(h @ p["w1"] + p["b1"], approximate="tanh") @ p["w2"] + p["b2"]
        x = x + m.reshape(B, T, D)
        logits = F.layer_norm(x, (D,), p["lnfg"], p["lnfb"]).reshape(B * T, D) @ p["wout"]
        return F.cross_entropy(logits, y_ids.reshape(-1))

    opt = torch.optim.Adam(params.values(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()

    def fwd():
        with torch.no_grad():
            return loss_fn().item()

    def samples_ms(f, reps, warmup, cpu=None):
        """Wall ms per call; with cpu=[], also the process CPU ms per call (robust to other load)."""
        for _ in range(warmup):
            f()
        ts = []
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            f()
            ts.append((time.perf_counter() - t0) * 1e3)
            if cpu is not None:
                cpu.append((time.process_time() - c0) * 1e3)
        return ts

    def median_ms(f, reps, warmup):
        return statistics.median(samples_ms(f, reps, warmup))

    first_loss = fwd()
    fwd_samples = samples_ms(fwd, a.reps, a.warmup)
    step_cpu_samples = []
    step_samples = samples_ms(step, a.reps, a.warmup, step_cpu_samples)

    mm = {}
    S = a.mm
    x, y = torch.randn(S, S, generator=g), torch.randn(S, S, generator=g)
    for name, f in dict(nn=lambda: x @ y, tn=lambda: x.t() @ y, nt=lambda: x @ y.t()).items():
        ms = median_ms(f, 5, 2)
        mm[name] = 2 * S ** 3 / ms / 1e6
    libs = blas_libraries()
    print(json.dumps(dict(
        torch=torch.__version__, threads=torch.get_num_threads(),
        fwd_ms=statistics.median(fwd_samples), step_ms=statistics.median(step_samples),
        fwd_samples=fwd_samples, step_samples=step_samples, step_cpu_samples=step_cpu_samples,
        initial_loss=first_loss, matmul_gflops=mm, matmul_size=S, blas=libs, openblas=openblas_info(libs),
    )))


if __name__ == "__main__":
    main()
