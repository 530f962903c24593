"""The first-run experience of the `streamgen` binary (issue 4), end to end.

- On a terminal (a pseudo-terminal here) loading draws a progress bar redrawn in place with '\\r';
  with stderr piped the same load writes plain lines. STREAMGEN_PROGRESS_MIN_MIB=0 makes the
  3.4 MB demo model count as big.
- A wrong path, a file that is not a model, an unsupported architecture and an unsupported weight
  type each exit 1 with a message that names what streamgen supports, for `generate` and `serve`.

usage: check_startup.py STREAMGEN_BINARY SOURCE_DIR
"""
import json
import os
import re
import pty
import shutil
import subprocess
import sys
import tempfile

BIN, SOURCE = sys.argv[1], sys.argv[2]
DEMO_GGUF = os.path.join(SOURCE, "models/demo/shakespeare-q8_0.gguf")
DEMO_HF = os.path.join(SOURCE, "models/demo/hf")
WHAT_LOADS = ("streamgen loads a GGUF file (such as model-q8_0.gguf) or a Hugging Face model "
              "folder (config.json, model.safetensors or its shards, tokenizer.json)")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run_on_pty(argv, env):
    """Runs argv with stdin/stdout/stderr on a new pseudo-terminal; returns (exit code, bytes)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


env = dict(os.environ, STREAMGEN_PROGRESS_MIN_MIB="0")
gen = [BIN, "generate", "--model", DEMO_GGUF, "--prompt", "ROMEO:", "--max-new-tokens", "4"]

code, out = run_on_pty(gen, env)
check(code == 0, f"generate on a terminal exits 0 (got {code})")
check(b"\rloading shakespeare-q8_0.gguf [" in out, "terminal: a bar drawn from the line start")
check(b"100%" in out and b"MiB" in out, "terminal: the bar reaches 100% with sizes in MiB")

p = subprocess.run(gen, env=env, capture_output=True)
check(p.returncode == 0, "generate with stderr piped exits 0")
err = p.stderr.decode()
check("\r" not in err and "[" not in err, "not a terminal: no bar drawn")
# The weights packed into memory (3.33 MiB), not the whole file (3.37 MiB with the vocabulary).
check(re.search(r"loading shakespeare-q8_0\.gguf: 100% \((\d+\.\d+)/\1 MiB", err) is not None,
      "not a terminal: a plain 100% line " + repr(err))

p = subprocess.run(gen, capture_output=True)
check("loading" not in p.stderr.decode(), "a 3 MB model loads without progress by default")

with tempfile.TemporaryDirectory() as tmp:
    not_model = os.path.join(tmp, "notes.txt")
    with open(not_model, "w") as f:
        f.write("hello\n")
    gpt2 = os.path.join(tmp, "gpt2")
    shutil.copytree(DEMO_HF, gpt2)
    with open(os.path.join(gpt2, "config.json")) as f:
        config = json.load(f)
    config["model_type"] = "gpt2"
    config["architectures"] = ["GPT2LMHeadModel"]
    with open(os.path.join(gpt2, "config.json"), "w") as f:
        json.dump(config, f)
    # The demo GGUF with its architecture renamed: same length, so the file stays valid.
    with open(DEMO_GGUF, "rb") as f:
        data = f.read()
    falcon = os.path.join(tmp, "falcon.gguf")
    with open(falcon, "wb") as f:
        f.write(data.replace(b"\x05\x00\x00\x00\x00\x00\x00\x00llama", b"\x05\x00\x00\x00\x00\x00"
                             b"\x00\x00bloom", 1).replace(b"llama.", b"bloom."))
    cases = [
        (os.path.join(tmp, "missing.gguf"),
         f"model path '{tmp}/missing.gguf' does not exist; {WHAT_LOADS}"),
        (not_model, f"not a GGUF file (expected \"GGUF\"); {WHAT_LOADS}"),
        (tmp, f"{tmp}: a directory without config.json is not a Hugging Face model folder"),
        (os.path.join(DEMO_HF, "model.safetensors"),
         f"{DEMO_HF} is a Hugging Face model folder: pass the folder"),
        (gpt2, "model_type 'gpt2' is not supported; supported: llama, mistral, qwen2, qwen3"),
        (falcon, "architecture 'bloom' is not supported; supported: llama, qwen2, qwen3"),
    ]
    for model, want in cases:
        p = subprocess.run([BIN, "generate", "--model", model, "--prompt", "hi"],
                           capture_output=True, text=True)
        check(p.returncode == 1 and want in p.stderr,
              f"generate --model {os.path.basename(model)}: exit 1, {want!r} (got {p.returncode} "
              f"{p.stderr.strip()!r})")
    p = subprocess.run([BIN, "serve", "--model-id", cases[0][0], "--port", "0"],
                       capture_output=True, text=True, timeout=60)
    log = p.stdout + p.stderr  # spdlog writes to stdout
    check(p.returncode == 1 and cases[0][1] in log,
          f"serve with a wrong path exits 1 naming it (got {p.returncode} {log[-300:]!r})")

print(f"{len(failures)} failed" if failures else "all startup checks passed")
sys.exit(1 if failures else 0)
