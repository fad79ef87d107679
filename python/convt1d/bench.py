"""Ours (convt1d.nn.ConvTranspose1d) against torch.nn.ConvTranspose1d as PyTorch users run it.

    python -m convt1d.bench [--case ID[,ID..] | --suite [FILE]] [--mode tf32,ieee,fp16,bf16|all]
                            [--stacks] [--overhead] [--frozen] [--repeats N] [--warmup N] [--no-compile]
                            [--json OUT]

Per case and mode: torch eager with default flags, torch eager with torch.backends.cudnn.benchmark=True,
torch.compile of the torch module, and ours; the speedups are ours over each. --stacks times the
upsampling stacks of HiFi-GAN V1 and DAC-44k (their ConvTranspose1d layers from the suite, LeakyReLU(0.1)
in between) at B=1 and B=16, eager and captured in a CUDA graph. GPU times are CUDA-event medians of
>= 50 runs, each after an L2 flush. Without a GPU a reduced CPU comparison runs instead. --overhead
measures the host cost per call of each path into the library (the bare C ABI call, the functional op,
the module) on a tiny problem: the Python layer's share is module minus C call. --frozen times ours
with its weights frozen (``freeze_weight``: packed once, as inference with unchanging weights runs).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

import torch

MODES = {"tf32": torch.float32, "ieee": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
# Relative L2 distance allowed between ours and torch's eager output (both carry the mode's rounding).
TOLERANCE = {"tf32": 4e-3, "ieee": 2e-5, "fp16": 6e-3, "bf16": 4e-2}
STACK_MODELS = {"HiFiGAN-V1": "HiFiGAN-V1 up", "DAC-44k": "DAC44 up"}
DEFAULT_SUITE = Path(__file__).resolve().parents[2] / "bench" / "suite.csv"


# ------------------------------------------------------------------------------------------------ cases

def load_suite(path: Path) -> list[dict]:
    """Rows of bench/suite.csv (see tools/bench/suite.hpp); '#' lines and the header are skipped."""
    ints = ("B", "C_in", "C_out", "K", "stride", "padding", "output_padding", "dilation", "groups", "L_in", "bias")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    rows = []
    for n, row in enumerate(csv.DictReader(lines), start=2):
        try:
            rows.append({"id": row["id"], "model": row["model"], **{k: int(row[k]) for k in ints}})
        except (KeyError, TypeError, ValueError) as e:
            raise SystemExit(f"convt1d.bench: {path}: data row {n}: {e!r}")
    return rows


def make_layer(cls, c: dict, device, dtype):
    torch.manual_seed(0)
    layer = cls(c["C_in"], c["C_out"], c["K"], stride=c["stride"], padding=c["padding"],
                output_padding=c["output_padding"], groups=c["groups"], bias=bool(c["bias"]),
                dilation=c["dilation"])
    return layer.to(device=device, dtype=dtype).eval()


def stack_layers(rows: list[dict], model: str) -> list[dict]:
    """The model's upsampling layers in order: its '<prefix>N 1s' rows (the suite also holds training
    shapes of some layers, '<prefix>N train', which are not part of the 1 s inference stack)."""
    prefix = STACK_MODELS[model]
    layers = sorted((r for r in rows if r["model"].startswith(prefix) and r["model"].endswith(" 1s")),
                    key=lambda r: r["model"])
    if not layers:
        raise SystemExit(f"convt1d.bench: no '{prefix}* 1s' rows in the suite for the {model} stack")
    for a, b in zip(layers, layers[1:]):
        if a["C_out"] != b["C_in"]:
            raise SystemExit(f"convt1d.bench: {model} stack: {a['id']} gives {a['C_out']} channels, "
                             f"{b['id']} takes {b['C_in']}")
    return layers


def make_stack(cls, layers: list[dict], device, dtype) -> torch.nn.Sequential:
    mods = []
    for i, c in enumerate(layers):
        if i:
            mods.append(torch.nn.LeakyReLU(0.1))
        mods.append(make_layer(cls, c, device, dtype))
    return torch.nn.Sequential(*mods).to(device=device, dtype=dtype).eval()


# ------------------------------------------------------------------------------------------------ timing

class Timer:
    """CUDA events around each run, after overwriting 2x the L2 so no run starts with a warm cache."""

    def __init__(self, warmup: int, repeats: int):
        self.warmup, self.repeats = warmup, repeats
        l2 = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 50 << 20)
        self.flush = torch.empty(max(2 * l2, 8 << 20), dtype=torch.uint8, device="cuda")

    def __call__(self, fn) -> float:
        for _ in range(self.warmup):
            fn()
        torch.cuda.synchronize()
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                  for _ in range(self.repeats)]
        for i, (start, end) in enumerate(events):
            self.flush.fill_(i & 0xFF)
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        return statistics.median(s.elapsed_time(e) for s, e in events)


def cpu_time(fn, warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def set_fp32_math(mode: str) -> None:
    """TF32 on (PyTorch's default for convolutions) or off, through whichever switch this torch has;
    convt1d reads the same switch."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        conv.fp32_precision = "ieee" if mode == "ieee" else "tf32"
    else:
        torch.backends.cudnn.allow_tf32 = mode != "ieee"


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


def graphed(module, x):
    """module(x) captured in a CUDA graph; returns the replay function."""
    static_x = x.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            module(static_x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        module(static_x)
    return graph.replay


# ------------------------------------------------------------------------------------------------ runs

def run_case(c: dict, mode: str, args, timer, device) -> dict:
    import convt1d.nn

    dtype = MODES[mode]
    set_fp32_math(mode)
    ref = make_layer(torch.nn.ConvTranspose1d, c, device, dtype)
    ours = make_layer(convt1d.nn.ConvTranspose1d, c, device, dtype)
    ours.load_state_dict(ref.state_dict())
    if args.frozen:
        ours.freeze_weight()
    gen = torch.Generator(device="cpu").manual_seed(1)
    x = torch.randn(c["B"], c["C_in"], c["L_in"], generator=gen).to(device=device, dtype=dtype)
    out = {"id": c["id"], "model": c["model"], "mode": mode}
    with torch.no_grad():
        torch.backends.cudnn.benchmark = False
        err = rel_diff(ours(x), ref(x))
        out["rel_diff_vs_torch"] = err
        if not err <= TOLERANCE[mode]:
            out["status"] = f"FAIL: relative difference to torch {err:.3g} > {TOLERANCE[mode]}"
            return out
        out["status"] = "ok"
        if timer is None:  # CPU
            reps, warm = max(3, args.repeats // 10), 1
            out["torch_eager_ms"] = cpu_time(lambda: ref(x), warm, reps)
            out["ours_ms"] = cpu_time(lambda: ours(x), warm, reps)
            return out
        out["torch_eager_ms"] = timer(lambda: ref(x))
        torch.backends.cudnn.benchmark = True
        ref(x)  # the algorithm search happens here, never inside a timed run
        out["torch_benchmark_ms"] = timer(lambda: ref(x))
        torch.backends.cudnn.benchmark = False
        if not args.no_compile:
            try:
                compiled = torch.compile(ref)
                out["torch_compile_ms"] = timer(lambda: compiled(x))
            except Exception as e:  # a compiler failure is the baseline's problem, not a crash of ours
                out["torch_compile_error"] = f"{type(e).__name__}: {e}"[:300]
        out["ours_ms"] = timer(lambda: ours(x))
    return out


def run_stack(model: str, layers: list[dict], batch: int, mode: str, timer, frozen: bool = False) -> dict:
    import convt1d.nn

    dtype = MODES[mode]
    set_fp32_math(mode)
    ref = make_stack(torch.nn.ConvTranspose1d, layers, "cuda", dtype)
    ours = make_stack(convt1d.nn.ConvTranspose1d, layers, "cuda", dtype)
    ours.load_state_dict(ref.state_dict())
    convt1d.nn.freeze_weights(ours, frozen)
    x = torch.randn(batch, layers[0]["C_in"], layers[0]["L_in"], device="cuda", dtype=dtype)
    out = {"id": f"{model} B={batch}", "model": model, "mode": mode, "status": "ok"}
    with torch.no_grad():
        out["rel_diff_vs_torch"] = err = rel_diff(ours(x), ref(x))
        if not err <= 2 * TOLERANCE[mode]:
            out["status"] = f"FAIL: relative difference to torch {err:.3g}"
            return out
        out["torch_eager_ms"] = timer(lambda: ref(x))
        out["ours_ms"] = timer(lambda: ours(x))
        for name, mod in (("torch_graph_ms", ref), ("ours_graph_ms", ours)):
            try:
                out[name] = timer(graphed(mod, x))
            except Exception as e:
                out[name.replace("_ms", "_error")] = f"{type(e).__name__}: {e}"[:300]
    return out


# The overhead probe's problem: small enough that the device never holds the host back.
_PROBE = dict(B=1, C_in=8, C_out=8, L_in=32, K=4, stride=2, padding=1)
_OVERHEAD_ROUNDS = 7


def host_overhead(device: str, calls: int) -> dict:
    """Host cost per call in microseconds of each way into the library, on one tiny problem: the bare
    C ABI call (problem struct and pointers prepared once), the functional op, our module, and torch's
    module next to them. Back-to-back calls timed on the host and synchronised once at the end of each
    round, so a path's number is what it costs the calling thread (its best round of
    _OVERHEAD_ROUNDS). The Python layer's overhead is module - C call."""
    import convt1d
    import convt1d.nn
    from convt1d import _lib, ops

    c = _PROBE
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose1d(c["C_in"], c["C_out"], c["K"], stride=c["stride"], padding=c["padding"]).to(device)
    ours = convt1d.nn.ConvTranspose1d(c["C_in"], c["C_out"], c["K"], stride=c["stride"], padding=c["padding"]).to(device)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(c["B"], c["C_in"], c["L_in"], device=device)
    on_cuda = device == "cuda"
    sync = torch.cuda.synchronize if on_cuda else (lambda: None)
    with torch.no_grad():
        y = ours(x)
        w, b = ours.weight, ours.bias
        math = ops._cuda_fp32_math() if on_cuda else _lib.MATH_IEEE
        problem = _lib.Problem(c["B"], c["C_in"], c["C_out"], c["L_in"], c["K"], c["stride"], c["padding"], 0, 1, 1,
                               1, _lib.DTYPE_FLOAT32, math, _lib.DEVICE_CUDA if on_cuda else _lib.DEVICE_CPU,
                               _lib.ALGO_AUTO)
        stream = torch.cuda.current_stream().cuda_stream if on_cuda else None
        pointers = (x.data_ptr(), w.data_ptr(), b.data_ptr(), y.data_ptr())
        paths = {
            "c_abi_us": lambda: _lib._forward(problem, *pointers, stream),
            "functional_us": lambda: convt1d.conv_transpose1d(x, w, b, stride=c["stride"], padding=c["padding"]),
            "module_us": lambda: ours(x),
            "torch_module_us": lambda: ref(x),
        }
        for fn in paths.values():
            for _ in range(max(10, calls // 10)):
                fn()
        sync()
        # Host timings of a shared machine only ever gain noise (other processes, frequency changes), so
        # each path keeps its best of several rounds; the rounds interleave the paths so that a slow
        # spell does not land on one path alone.
        out = {name: float("inf") for name in paths}
        for _ in range(_OVERHEAD_ROUNDS):
            for name, fn in paths.items():
                t0 = time.perf_counter()
                for _ in range(calls):
                    fn()
                sync()
                out[name] = min(out[name], (time.perf_counter() - t0) / calls * 1e6)
    out["python_layer_us"] = out["module_us"] - out["c_abi_us"]
    return out


def print_overhead(r: dict, device: str) -> None:
    c = _PROBE
    print(f"host cost per call, {device}, tiny problem (B {c['B']}, {c['C_in']} -> {c['C_out']}, L {c['L_in']}, "
          f"K {c['K']}, stride {c['stride']}):")
    print(f"  C ABI convt1d_forward     {r['c_abi_us']:7.2f} us")
    print(f"  convt1d.conv_transpose1d  {r['functional_us']:7.2f} us  (+{r['functional_us'] - r['c_abi_us']:.2f})")
    print(f"  convt1d.nn module         {r['module_us']:7.2f} us  (+{r['python_layer_us']:.2f}: the Python layer)")
    print(f"  torch.nn module           {r['torch_module_us']:7.2f} us")


def print_row(r: dict) -> None:
    if r["status"] != "ok":
        print(f"{r['id']:<16} {r['mode']:<5} {r['status']}", flush=True)
        return
    ours = r["ours_ms"]
    parts = [f"{r['id']:<16} {r['mode']:<5} ours {ours:9.4f} ms"]
    for key in ("torch_eager_ms", "torch_benchmark_ms", "torch_compile_ms", "torch_graph_ms", "ours_graph_ms"):
        if key in r:
            name = key[:-3]
            speed = f" ({r[key] / ours:.2f}x)" if key != "ours_graph_ms" else ""
            parts.append(f"{name} {r[key]:.4f}{speed}")
    print(" | ".join(parts), flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m convt1d.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", nargs="?", const=str(DEFAULT_SUITE), help="suite CSV (default bench/suite.csv)")
    p.add_argument("--case", action="append", default=[], help="case id(s) of the suite, repeatable or comma list")
    p.add_argument("--mode", default="all", help="tf32, ieee, fp16, bf16 or all (comma list)")
    p.add_argument("--stacks", action="store_true", help="HiFi-GAN V1 and DAC-44k upsampling stacks")
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile baseline")
    p.add_argument("--frozen", action="store_true", help="ours with freeze_weight(): weights packed once")
    p.add_argument("--overhead", action="store_true",
                   help="host cost per call of each path into the library (C ABI, functional, module) on a tiny problem")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    modes = []
    for m in args.mode.split(","):
        if m == "all":
            modes += [k for k in MODES if k not in modes]
        elif m in MODES:
            modes += [m] if m not in modes else []
        else:
            p.error(f"--mode: unknown mode {m!r} (expected tf32, ieee, fp16, bf16 or all)")
    args.modes = modes
    if args.repeats < 50:
        p.error(f"--repeats must be >= 50 for a reportable median, got {args.repeats}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    rows = load_suite(Path(args.suite) if args.suite else DEFAULT_SUITE)
    ids = [i for v in args.case for i in v.split(",") if i]
    if ids:
        by_id = {r["id"]: r for r in rows}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            print(f"convt1d.bench: unknown case id(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        cases = [by_id[i] for i in ids]
    elif args.suite:
        cases = rows
    else:
        cases = [] if args.stacks or args.overhead else [r for r in rows if r["id"] == "KB74"]

    gpu = torch.cuda.is_available()
    results = []
    overhead = None
    if args.overhead:
        overhead = host_overhead("cuda" if gpu else "cpu", calls=args.repeats * 40)
        print_overhead(overhead, "cuda" if gpu else "cpu")
    if not gpu:
        print("no CUDA device: running a reduced CPU comparison (ours vs torch eager, L_in <= 4096, B <= 4)")
        if args.stacks:
            print("(--stacks needs a GPU: skipped)")
        for c in cases:
            c = dict(c, L_in=min(c["L_in"], 4096), B=min(c["B"], 4))
            for mode in [m for m in args.modes if m in ("ieee", "bf16")]:  # CPU has no TF32; fp16 conv is slow there
                results.append(run_case(c, mode, args, None, "cpu"))
                print_row(results[-1])
    else:
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
              f"cuDNN {torch.backends.cudnn.version()}" + (", ours with frozen weights" if args.frozen else ""))
        timer = Timer(args.warmup, args.repeats)
        saved = (torch.backends.cudnn.benchmark, getattr(getattr(torch.backends.cudnn, "conv", None),
                                                          "fp32_precision", None))
        try:
            for c in cases:
                for mode in args.modes:
                    print(f"[{c['id']} {mode}]", file=sys.stderr, flush=True)
                    results.append(run_case(c, mode, args, timer, "cuda"))
                    print_row(results[-1])
            if args.stacks:
                for model in STACK_MODELS:
                    layers = stack_layers(rows, model)
                    for batch in (1, 16):
                        for mode in args.modes:
                            results.append(run_stack(model, layers, batch, mode, timer, args.frozen))
                            print_row(results[-1])
        finally:
            torch.backends.cudnn.benchmark = saved[0]
            set_fp32_math("tf32")
    for key in ("torch_eager_ms", "torch_benchmark_ms", "torch_compile_ms"):
        for mode in args.modes:
            s = [r[key] / r["ours_ms"] for r in results if r["mode"] == mode and key in r and "ours_ms" in r]
            if s:
                print(f"geomean speedup vs {key[:-3]} ({mode}): {statistics.geometric_mean(s):.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": torch.cuda.get_device_name(0) if gpu else "cpu",
                                               "torch": torch.__version__, "results": results,
                                               "host_overhead_us": overhead}, indent=1))
    failures = [r for r in results if r["status"] != "ok"]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
