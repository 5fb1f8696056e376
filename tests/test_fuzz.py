"""CI's share of the mutation fuzzer (tests/fuzz_containers.py); `make fuzz` runs many more."""

import os
import subprocess
import sys

FUZZER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_containers.py")


def test_300_mutated_containers_each_decode_or_are_rejected_as_bad_input(model_env,
                                                                          model_cache):
    # HOME: the fixture's DAC weights, so that .dac files are among the seeds
    env = dict(model_env, HOME=str(model_cache / "home"))
    run = subprocess.run([sys.executable, FUZZER, "--count", "300", "--seed", "1",
                          "--timeout", "60"], env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    counts = {line.split(None, 1)[1]: int(line.split()[0]) for line in run.stdout.splitlines()}
    assert sum(counts.values()) == 300
    assert set(counts) <= {"decoded", "rejected 4"}, counts
    # Most mutants break the CRC, magic or a field: a reader that let them through and decoded
    # garbage would still "decode". 278 of these 300 were rejected when this was written.
    assert counts.get("rejected 4", 0) >= 240, counts
