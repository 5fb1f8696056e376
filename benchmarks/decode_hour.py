#!/usr/bin/env python3
"""Peak memory of the toolkit decoding about an hour of SNAC codes, without encoding an hour first.

  decode_hour.py CODEC WORKDIR [REPEATS [THREADS]]   (snac24, snac32 or snac44; 60; 1)

Encodes about 60 s of bench.py's speech-like input (a whole number of the model's padding
units, so copies join seamlessly), repeats its codes REPEATS times into one .snac, and decodes
that in a fresh process through bench.py's own measurement (THREADS threads), sampling the child's
RSS from /proc every 30 s into WORKDIR/CODEC-rss.log. Decoding does not depend on the codes'
values, so this measures an hour's decode at a sixtieth of the encoding cost.
Run with the model environment of `make bench` (HF_HOME, HF_HUB_OFFLINE=1, ...).
"""

import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import bench  # noqa: E402
from codec_toolkit.audio import read_raw_audio  # noqa: E402
from codec_toolkit.ncdc import read_ncdc, write_ncdc  # noqa: E402
from codec_toolkit.runtime import EncodeOptions  # noqa: E402
from codec_toolkit.snac import SnacAdapter, load_snac  # noqa: E402


def write_hour(name: str, work: str, repeats: int) -> tuple[str, float]:
    _, model_id, rate = bench.CODECS[name]
    model = load_snac(model_id)
    unit = int(model.hop_length) * math.lcm(list(model.vq_strides)[0], model.attn_window_size or 1)
    length = -(-60 * rate // unit) * unit
    source = os.path.join(work, f"{name}-60.f32")
    with open(source, "wb") as fo:
        block = next(bench.speechlike(length / rate, rate, block_seconds=length / rate + 1))
        fo.write(block.astype("<f4").tobytes())
    buffer = open(os.path.join(work, f"{name}-60.snac"), "w+b")  # noqa: SIM115
    with buffer:
        SnacAdapter().encode(read_raw_audio(source), buffer, EncodeOptions(
            model=model_id, source_rate=rate, threads=1, backend="auto"))
        buffer.seek(0)
        header, codes = read_ncdc(buffer)
    header.length = length * repeats
    hour = os.path.join(work, f"{name}-hour.snac")
    with open(hour, "wb") as fo:
        write_ncdc(fo, header, [np.tile(c, repeats) for c in codes])
    return hour, header.length / rate


def main() -> int:
    name, work = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    os.makedirs(work, exist_ok=True)
    hour, seconds = write_hour(name, work, repeats)
    print(f"{name}: {seconds:.1f} s of codes, {os.path.getsize(hour)} bytes", flush=True)
    spec = {"codec": name, "seconds": seconds, "op": "decode", "impl": "toolkit",
            "threads": threads, "input": "", "container": hour}
    start = time.time()
    child = subprocess.Popen([sys.executable, os.path.join(HERE, "bench.py"), "--child",
                              json.dumps(spec)], env=dict(os.environ, OMP_NUM_THREADS=str(threads)),
                             stdout=subprocess.PIPE, text=True)
    with open(os.path.join(work, f"{name}-rss.log"), "w") as log:
        while child.poll() is None:
            try:
                with open(f"/proc/{child.pid}/status") as status:
                    fields = dict(line.split(":", 1) for line in status)
                rss, peak = (int(fields[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM"))
                log.write(f"{time.time() - start:.0f} s: RSS {rss} MB, peak {peak} MB\n")
                log.flush()
            except (FileNotFoundError, ProcessLookupError, KeyError):
                pass
            time.sleep(30)
    result = json.loads(child.stdout.read().strip().splitlines()[-1])
    print(f"decode: {result['seconds']:.1f} s (RTF {result['seconds'] / seconds:.3f}), "
          f"peak RSS {result['rss_mb']:.0f} MB")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
