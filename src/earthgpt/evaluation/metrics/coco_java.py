"""The two Java tools coco-caption relies on: the METEOR 1.5 scorer and the CoreNLP 3.4.1 PTB tokenizer.

Both jars ship inside the ``pycocoevalcap`` wheel (``pip install pycocoevalcap``, the ``eval`` extra);
they need a Java runtime on PATH. METEOR is a reference implementation we wrap rather than rewrite:
its stemmer, synonym and paraphrase tables are the metric.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

__all__ = ["MeteorScorer", "corenlp_tokenize", "pycocoevalcap_dir", "require_java"]

logger = logging.getLogger(__name__)

_JAVA_FIX = "install a Java runtime (e.g. `apt-get install default-jre-headless`) and put `java` on PATH"


def require_java() -> str:
    """Path of the java executable; raises RuntimeError naming the fix when Java is missing."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError(f"METEOR and the CoreNLP tokenizer need Java, which is not on PATH: {_JAVA_FIX}")
    return java


def pycocoevalcap_dir() -> Path:
    """The installed pycocoevalcap package folder (it holds the METEOR and CoreNLP jars)."""
    spec = importlib.util.find_spec("pycocoevalcap")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pycocoevalcap is not installed: `pip install pycocoevalcap` (the eval extra)")
    return Path(next(iter(spec.submodule_search_locations)))


def _jar(relative: str) -> Path:
    path = pycocoevalcap_dir() / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall pycocoevalcap (`pip install -I pycocoevalcap`)")
    return path


def corenlp_tokenize(captions: Sequence[str]) -> list[list[str]]:
    """PTB tokens of each caption from the CoreNLP 3.4.1 jar itself, as coco-caption runs it.

    Captions go one per line into one file (newlines inside a caption become spaces) and the jar runs
    with ``-preserveLines -lowerCase``; punctuation is not removed here.
    """
    java = require_java()
    jar = _jar("tokenizer/stanford-corenlp-3.4.1.jar")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "captions.txt"
        src.write_text("\n".join(c.replace("\n", " ") for c in captions), encoding="utf-8")
        cmd = [java, "-cp", str(jar), "edu.stanford.nlp.process.PTBTokenizer", "-preserveLines", "-lowerCase"]
        done = subprocess.run([*cmd, str(src)], capture_output=True, check=True)
    lines = done.stdout.decode("utf-8").split("\n")
    if len(lines) < len(captions):
        raise RuntimeError(
            f"the CoreNLP tokenizer returned {len(lines)} lines for {len(captions)} captions: a caption holds"
            " a line-break character (\\r, \\u2028, ...); use the python engine, which turns them into spaces"
        )
    return [line.rstrip().split(" ") if line.strip() else [] for line in lines[: len(captions)]]


class MeteorScorer:
    """A running METEOR 1.5 process (``-l en -norm``, the coco-caption settings); start it once, score often.

    Starting takes tens of seconds (it loads the paraphrase table), so reuse one scorer across calls and
    close it (or use ``with``) when done. The protocol is coco-caption's: one ``SCORE`` line per image
    gives its statistics, one ``EVAL`` line returns every image's score and then the corpus score.
    """

    def __init__(self) -> None:
        java = require_java()
        jar = _jar("meteor/meteor-1.5.jar")
        cmd = [java, "-jar", "-Xmx2G", jar.name, "-", "-", "-stdio", "-l", "en", "-norm"]
        self._proc = subprocess.Popen(
            cmd, cwd=jar.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    def score(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> tuple[float, list[float]]:
        """Corpus METEOR and per-image METEOR of tokenised hypotheses against their tokenised references."""
        if len(hypotheses) != len(references):
            raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists")
        stats = [self._stats(h, refs) for h, refs in zip(hypotheses, references, strict=True)]
        self._write("EVAL ||| " + " ||| ".join(stats))
        per_image = [float(self._read()) for _ in stats]
        return float(self._read()), per_image

    def _stats(self, hypothesis: str, references: Sequence[str]) -> str:
        hypothesis = hypothesis.replace("|||", "").replace("  ", " ")
        self._write(" ||| ".join(("SCORE", " ||| ".join(references), hypothesis)))
        return self._read()

    def _write(self, line: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(f"{line}\n".encode())
        self._proc.stdin.flush()

    def _read(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line:
            raise RuntimeError(f"the METEOR process stopped (exit code {self._proc.poll()}); is Java 8+ installed?")
        return line

    def close(self) -> None:
        """Stop the Java process."""
        if self._proc.poll() is None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> MeteorScorer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
