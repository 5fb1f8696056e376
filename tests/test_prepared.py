"""Artifacts prepared once per machine and model (codec_toolkit.prepared), and SNAC's compiled
backend built from them: reused when sound, rebuilt when damaged, stale or foreign, built once
when two processes ask at the same time, never loaded blindly."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import MODEL_CACHE, ROOT, read_wav, subprocess_env
from codec_toolkit import aoti, prepared, snac_compiled

PARTS = {"recipe": 1, "part": "decoder", "model": "test"}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "neural-codec-toolkit"


def counting_build(log):
    def build(path):
        with open(log, "a") as fo:
            fo.write("built\n")
        with open(path, "wb") as fo:
            fo.write(b"artifact bytes " * 100)
    return build


def builds(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_an_artifact_is_built_once_and_then_reused(cache, tmp_path, capsys):
    log = tmp_path / "builds.log"
    first = prepared.prepared("compiled", ".pt2", PARTS, counting_build(log), "the test thing")
    assert capsys.readouterr().err.endswith(": preparing the test thing\n")
    again = prepared.prepared("compiled", ".pt2", PARTS, counting_build(log), "the test thing")
    assert first == again and builds(log) == 1
    assert capsys.readouterr().err == ""
    manifest = json.loads(open(first + ".json").read())
    assert manifest["key"] == PARTS and manifest["bytes"] == os.path.getsize(first)


def test_another_key_gives_another_artifact(cache, tmp_path):
    log = tmp_path / "builds.log"
    first = prepared.prepared("compiled", ".pt2", PARTS, counting_build(log), "x")
    other = prepared.prepared("compiled", ".pt2", {**PARTS, "torch": "2.99"},
                              counting_build(log), "x")
    assert first != other and builds(log) == 2


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "manifest of another key",
                                    "no manifest", "manifest not json"])
def test_a_damaged_or_foreign_artifact_is_rebuilt_not_loaded(cache, tmp_path, capsys, damage):
    log = tmp_path / "builds.log"
    path = prepared.prepared("compiled", ".pt2", PARTS, counting_build(log), "the test thing")
    good = open(path, "rb").read()
    capsys.readouterr()
    if damage == "flipped byte":
        open(path, "wb").write(good[:7] + bytes([good[7] ^ 1]) + good[8:])
    elif damage == "truncated":
        open(path, "wb").write(good[:-10])
    elif damage == "manifest of another key":
        manifest = json.loads(open(path + ".json").read())
        manifest["key"] = {**PARTS, "model": "another"}
        open(path + ".json", "w").write(json.dumps(manifest))
    elif damage == "no manifest":
        os.unlink(path + ".json")
    else:
        open(path + ".json", "w").write("{not json")
    assert not prepared.is_valid(path, PARTS)
    again = prepared.prepared("compiled", ".pt2", PARTS, counting_build(log), "the test thing")
    assert again == path and builds(log) == 2
    assert open(path, "rb").read() == good and prepared.is_valid(path, PARTS)
    assert capsys.readouterr().err.endswith(f": {path} is damaged: preparing the test thing\n")


def _prepare_slowly(xdg, log, barrier):
    os.environ["XDG_CACHE_HOME"] = xdg
    build = counting_build(log)

    def slow(path):
        time.sleep(1)
        build(path)
    barrier.wait()
    prepared.prepared("compiled", ".pt2", PARTS, slow, "the test thing")


def test_two_processes_preparing_at_once_build_it_once(cache, tmp_path):
    log = tmp_path / "builds.log"
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_prepare_slowly, args=(str(cache.parent), log, barrier))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert builds(log) == 1
    assert [p.name for p in (cache / "compiled").iterdir() if p.name.startswith(".")] == []


def test_a_failed_build_is_noted_and_only_retried_when_asked(cache, tmp_path):
    def failing(path):
        open(path, "wb").write(b"half")
        raise RuntimeError("no C++ compiler here")

    with pytest.raises(RuntimeError):
        prepared.prepared("compiled", ".pt2", PARTS, failing, "x")
    assert sorted(p.name for p in (cache / "compiled").iterdir()
                  if not p.name.endswith(".lock"))[0].endswith(".pt2.failed")
    with pytest.raises(prepared.PreparationFailed, match="no C\\+\\+ compiler here"):
        prepared.prepared("compiled", ".pt2", PARTS, counting_build(tmp_path / "log"), "x",
                          retry=False)
    path = prepared.prepared("compiled", ".pt2", PARTS, counting_build(tmp_path / "log"), "x")
    assert prepared.is_valid(path, PARTS) and not os.path.exists(path + ".failed")


def test_an_artifact_of_an_older_recipe_goes_once_todays_is_ready(cache, tmp_path):
    log = tmp_path / "builds.log"
    older = prepared.prepared("compiled", ".pt2", PARTS, counting_build(log), "x")
    open(older + ".failed", "w").write("an old note\n")
    other_model = prepared.prepared("compiled", ".pt2", {**PARTS, "model": "other"},
                                    counting_build(log), "x")
    newer = prepared.prepared("compiled", ".pt2", {**PARTS, "recipe": 3}, counting_build(log),
                              "x")
    today = prepared.prepared("compiled", ".pt2", {**PARTS, "recipe": 2}, counting_build(log),
                              "x")
    left = {p.name for p in (cache / "compiled").iterdir()}
    assert not any(name.startswith(os.path.basename(older)) for name in left)
    for kept in (other_model, newer, today):  # another model, a newer recipe, today's
        assert prepared.is_valid(kept, json.loads(open(kept + ".json").read())["key"])


def test_the_machine_key_names_the_torch_build_and_the_cpu():
    import torch

    machine = prepared.machine()
    assert machine["torch"] == torch.__version__ and machine["arch"]
    assert len(machine["cpu_flags"]) == 16


# --- SNAC's compiled backend through the helpers ----------------------------------------------

def run_helper(script, *args, **env):
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)],
                          capture_output=True, text=True, env=subprocess_env(**env))


@pytest.fixture
def snac_clip(model_cache, signal, tmp_path):
    import soundfile

    wav = tmp_path / "clip.wav"
    soundfile.write(str(wav), signal, 24_000, subtype="FLOAT")
    result = run_helper("encode_ecdc.py", "--backend", "torch", wav, tmp_path / "clip.snac")
    assert result.returncode == 0, result.stderr
    return tmp_path / "clip.snac"


def copy_snac24_artifacts(kind: str, xdg) -> list:
    """Copies the test cache's `kind` artifacts of the 24 kHz model (not the 0.5 GB of the
    others) under `xdg`; returns the copies."""
    [weights] = (MODEL_CACHE / "hf" / "hub" / "models--hubertsiuzdak--snac_24khz"
                 ).glob("snapshots/*/pytorch_model.bin")
    digest = prepared.sha256_file(weights)
    folder = xdg / "neural-codec-toolkit" / kind
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for manifest in (MODEL_CACHE / "xdg" / "neural-codec-toolkit" / kind).glob("*.json"):
        artifact = manifest.with_suffix("")
        if _key_of(artifact)["weights"] == digest:
            shutil.copy(artifact, folder)
            shutil.copy(manifest, folder)
            copies.append(folder / artifact.name)
    return copies


def test_a_damaged_compiled_package_is_rebuilt_and_decodes_like_torch(snac_clip, tmp_path):
    # Packages of an earlier recipe may lie beside today's in a long-lived model cache.
    [package] = [path for path in copy_snac24_artifacts("compiled", tmp_path / "xdg")
                 if _key_of(path)["part"] == "decoder"
                 and _key_of(path)["recipe"] == snac_compiled.RECIPE["decoder"]]
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0xFF
    package.write_bytes(bytes(data))
    (tmp_path / "tmp").mkdir()

    result = run_helper("decode_ecdc.py", "--backend", "compiled", snac_clip,
                        tmp_path / "compiled.wav", XDG_CACHE_HOME=str(tmp_path / "xdg"),
                        TMPDIR=str(tmp_path / "tmp"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        f"decode_ecdc.py: {package} is damaged: preparing the compiled SNAC decoder")
    assert prepared.is_valid(str(package), _key_of(package))
    # Inductor's working files (generated code, objects: about 100 MB) are gone; what stays is
    # its precompiled headers, which it keeps in the temporary folder on purpose.
    assert [path.name for path in package.parent.iterdir() if path.name.startswith(".")] == []
    left = {path.relative_to(tmp_path / "tmp").parts[1]
            for path in (tmp_path / "tmp").glob("torchinductor_*/**/*") if path.is_file()}
    assert left <= {"precompiled_headers"}
    assert run_helper("decode_ecdc.py", "--backend", "torch", snac_clip,
                      tmp_path / "torch.wav").returncode == 0
    compiled, _ = read_wav(tmp_path / "compiled.wav")
    reference, _ = read_wav(tmp_path / "torch.wav")
    assert np.linalg.norm(compiled - reference) / np.linalg.norm(reference) < 1e-5


@pytest.mark.parametrize("helper, output", [("encode_ecdc.py", "again.snac"),
                                             ("decode_ecdc.py", "decoded.wav")])
def test_a_compiled_run_leaves_no_unpacked_package_in_tmp(snac_clip, tmp_path, helper, output):
    # torch's loader unpacks a package (27 MB for this test model, 80-220 MB for SNAC's) into a
    # folder of its own under /tmp, whatever TMPDIR says, and removes it only in a destructor.
    source = snac_clip if helper == "decode_ecdc.py" else snac_clip.with_suffix(".wav")
    before = unpacked_packages()
    result = run_helper(helper, "--backend", "compiled", source, tmp_path / output)
    assert result.returncode == 0, result.stderr
    assert unpacked_packages() - before == set()


def test_a_compiled_network_reads_a_strided_input_as_the_values_it_holds(model_cache):
    # The compiled code takes its inputs to be contiguous: handed a strided latent (a view cut
    # out of a longer one) it read other values, silently (a 32 kHz decode 0.33 off).
    from codec_toolkit.snac import load_snac
    from codec_toolkit.snac_backends import snac_graphs
    from codec_toolkit.snac_graph import noise_scales

    model = load_snac("hubertsiuzdak/snac_24khz")
    graphs = snac_graphs(model, "compiled", "cpu", 2)
    rng = np.random.default_rng(4)
    frames = 64
    wider = rng.standard_normal((1, model.latent_dim + 8, frames + 6), dtype=np.float32)
    latent = wider[:, 8:, 3:-3]
    assert not latent.flags.c_contiguous
    noise = [rng.standard_normal(frames * scale, dtype=np.float32)
             for scale in noise_scales(model)]
    assert np.array_equal(graphs.decode(latent, noise),
                          graphs.decode(np.ascontiguousarray(latent), noise))


@pytest.mark.parametrize("helper, needed, output", [("encode_ecdc.py", "encoder", "again.snac"),
                                                     ("decode_ecdc.py", "decoder", "out.wav")])
def test_a_run_checks_and_prepares_only_the_network_it_runs(snac_clip, tmp_path, helper, needed,
                                                           output):
    # An encode has no use for the decoder: checking its package cost a 32 kHz encode 0.17 s
    # (a sha256 of 155 MB), and on a cold cache compiling it took as long as the encoder.
    xdg = tmp_path / "xdg"
    [package] = [path for path in copy_snac24_artifacts("compiled", xdg)
                 if _key_of(path)["recipe"] == snac_compiled.RECIPE[needed]
                 and _key_of(path)["part"] == needed]
    for other in set(package.parent.iterdir()) - {package, Path(f"{package}.json")}:
        other.unlink()
    source = snac_clip if helper == "decode_ecdc.py" else snac_clip.with_suffix(".wav")

    result = run_helper(helper, "--backend", "compiled", source, tmp_path / output,
                        XDG_CACHE_HOME=str(xdg))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # nothing prepared
    assert sorted(package.parent.iterdir()) == [package, Path(f"{package}.json")]


def unpacked_packages() -> set:
    return set(Path("/tmp").glob("*/.*-compiled-*"))


def _key_of(package) -> dict:
    return json.loads(open(f"{package}.json").read())["key"]


def test_without_a_compiler_auto_uses_onnx_runtime_and_compiled_exits_3(snac_clip, tmp_path):
    xdg = tmp_path / "xdg"
    copy_snac24_artifacts("onnx", xdg)
    env = {"XDG_CACHE_HOME": str(xdg), "CXX": str(tmp_path / "no-such-compiler")}
    auto = run_helper("decode_ecdc.py", snac_clip, tmp_path / "auto.wav", **env)
    assert auto.returncode == 0, auto.stderr
    assert run_helper("decode_ecdc.py", "--backend", "onnx", snac_clip,
                      tmp_path / "onnx.wav").returncode == 0
    assert (tmp_path / "auto.wav").read_bytes() == (tmp_path / "onnx.wav").read_bytes()
    compiled = run_helper("decode_ecdc.py", "--backend", "compiled", snac_clip,
                          tmp_path / "compiled.wav", **env)
    assert compiled.returncode == 3
    assert compiled.stderr == (
        "decode_ecdc.py: cannot compile SNAC's networks: no C++ compiler (g++, or the one CXX "
        "names) to compile with\n")
    assert not (tmp_path / "compiled.wav").exists()


@pytest.mark.parametrize("backend", ["compiled", "onnx"])
def test_a_cpu_only_backend_with_a_gpu_device_is_refused_not_run_on_the_cpu(model_cache, backend):
    from codec_toolkit.errors import BadValue
    from codec_toolkit.snac import load_snac
    from codec_toolkit.snac_backends import snac_graphs

    model = load_snac("hubertsiuzdak/snac_24khz")
    with pytest.raises(BadValue) as refused:  # exit 5, a bad environment value
        snac_graphs(model, backend, "cuda", 1)
    assert str(refused.value) == (f"--backend {backend} runs SNAC on the CPU only, not on "
                                  f"--device cuda (use --backend torch or auto)")


def test_prepare_builds_every_backend_of_the_named_model_and_says_so(model_cache, tmp_path):
    xdg = tmp_path / "xdg"
    copy_snac24_artifacts("compiled", xdg)
    copy_snac24_artifacts("onnx", xdg)
    result = run_helper("encode_ecdc.py", "--prepare", "--model", "hubertsiuzdak/snac_24khz",
                        XDG_CACHE_HOME=str(xdg))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("encode_ecdc.py: hubertsiuzdak/snac_24khz: 4 networks ready")
    assert result.stderr.count("\n") == 1  # all four were prepared already: nothing rebuilt


@pytest.fixture(scope="module")
def prepared_sources(model_cache) -> dict:
    """The generated C++ of today's compiled SNAC packages, prepared at one thread as
    `--prepare` does by default: {package: {"kernel": its loops, "wrapper": the calls}}."""
    import zipfile

    result = run_helper("encode_ecdc.py", "--prepare", "--threads", "1", "--model",
                        "hubertsiuzdak/snac_24khz")
    assert result.returncode == 0, result.stderr
    packages = [path for path in (MODEL_CACHE / "xdg" / "neural-codec-toolkit" / "compiled"
                                  ).glob("*.pt2")
                if snac_compiled.RECIPE.get(_key_of(path)["part"]) == _key_of(path)["recipe"]]
    assert {_key_of(path)["part"] for path in packages} >= {"encoder", "decoder"}
    sources = {}
    for package in packages:
        with zipfile.ZipFile(package) as archive:
            sources[package] = {kind: source for kind in ("kernel", "wrapper")
                                for [source] in [[archive.read(name).decode()
                                                  for name in archive.namelist()
                                                  if name.endswith(f".{kind}.cpp")]]}
    return sources


@pytest.fixture(scope="module")
def prepared_kernels(prepared_sources) -> dict:
    """The generated C++ loops of today's compiled SNAC packages, by package."""
    return {package: source["kernel"] for package, source in prepared_sources.items()}


def test_compiled_loops_take_the_runs_thread_count_not_the_compiling_processs(prepared_kernels):
    """`--prepare` compiles at one thread (TORCH_THREADS' default). Inductor wrote that count
    into the code: no parallel loop at all, so a decode at 2 threads ran them on one core (and
    a package compiled at 2 threads ran them on two under TORCH_THREADS=1)."""
    for package, kernels in prepared_kernels.items():
        assert kernels.count("#pragma omp parallel\n") > 10, package
        assert "omp parallel num_threads(" not in kernels, package


def test_compiled_loops_compute_each_snake_once_and_divide_by_a_length_only_per_time_step(
        prepared_kernels):
    """Recipe 6 computed the Snake before a 7-tap depthwise convolution once per tap (8 sines
    in one loop), and the decoder's overlap-adds indexed their input modulo a length known only
    at run time: a division per value, in loops left scalar. Time-major (decoder recipe 10),
    such an index is worked out once per time step for a vectorised row of channels."""
    for package, kernels in prepared_kernels.items():
        loops = kernels.split('extern "C"')[1:]
        assert len(loops) > 10, package
        assert max(loop.count(".sin()") for loop in loops) <= 3, package
        for loop in loops:
            if re.search(r"% static_cast<int64_t>\([^;]*ks[0-9]", loop):
                assert "at::vec::" in loop, (package, loop.split("(")[0])


def test_the_compiled_decoders_convolutions_are_all_matrix_products(prepared_sources):
    """oneDNN ran them on channel-first activations at a third of the rate (recipe 8: 17 of
    the snac24 decoder's 18 convolutions), and time-major its blocks' products run at the
    matrix rate (recipe 10: `snac_time_major`), the last layer's too. The encoder's package
    keeps its convolutions: it is compiled as it was."""
    counted = set()
    for package, source in prepared_sources.items():
        key = _key_of(package)
        convolutions = source["wrapper"].count("aoti_torch_cpu_convolution(")
        if key["part"] == "decoder":
            assert convolutions == 0, package
            assert source["wrapper"].count("aoti_torch_cpu__linear_pointwise(") > 10, package
        else:
            assert convolutions > 10, package
        counted.add(key["part"])
    assert counted == {"encoder", "decoder"}


def test_a_failed_compilation_still_prepares_onnx_and_names_the_compilers_error(
        model_cache, tmp_path):
    xdg = tmp_path / "xdg"
    onnx = copy_snac24_artifacts("onnx", xdg)
    compiler = tmp_path / "refusing-g++"
    compiler.write_text('#!/bin/sh\ncase "$*" in *--version*) exec g++ --version;; esac\n'
                        'echo "model.cpp:12:3: error: this compiler refuses" >&2\nexit 1\n')
    compiler.chmod(0o755)
    result = run_helper("encode_ecdc.py", "--prepare", "--model", "hubertsiuzdak/snac_24khz",
                        XDG_CACHE_HOME=str(xdg), CXX=str(compiler))
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert lines[0].startswith("encode_ecdc.py: preparing the compiled SNAC encoder")
    assert lines[1].startswith("encode_ecdc.py: hubertsiuzdak/snac_24khz: 2 networks ready in ")
    assert lines[2:] == ["encode_ecdc.py: cannot compile SNAC's networks: CppCompileError: C++ "
                         "compile error: model.cpp:12:3: error: this compiler refuses"]
    assert all(prepared.is_valid(str(path), _key_of(path)) for path in onnx)
    [note] = (xdg / "neural-codec-toolkit" / "compiled").glob("*.failed")
    assert note.read_text().endswith("error: this compiler refuses\n")


def test_a_compilation_out_of_disk_space_says_so_in_one_line():
    from torch._inductor.exc import CppCompileError

    full = CppCompileError(["g++", "model.weights.S", "-o", "model.weights.o"], (
        "/tmp/cc6sOjbg.s: Assembler messages:\n/tmp/cc6sOjbg.s: Fatal error: can't fill 256 "
        "bytes in section .lrodata of model.weights.o: 'No space left on device'\n"))
    assert aoti.compile_failure(str(full), "/cache/compiled") == (
        f"C++ compile error: no space left on device (the compiler writes to /cache/compiled "
        f"and {tempfile.gettempdir()})")
    flags = CppCompileError(["g++", "-Wno-error=x", "model.cpp"], "model.cpp:1:1: error: boom")
    assert aoti.compile_failure(str(flags), "/c") == (
        "C++ compile error: model.cpp:1:1: error: boom")
