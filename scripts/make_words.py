"""Write src/inkread/data/words.txt: the words the synthetic training lines are written with.

No word list ships with Python or Debian's base image, and the machine that built the shipped
line reader had no internet, so the words are the most frequent ones in the English docstrings
and comments of Python's own standard library (tests left out). Programming words are over-
represented; the training lines mix in random letter strings so the reader does not lean on them.

    python scripts/make_words.py
"""

import collections
import re
import sysconfig
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "inkread" / "data" / "words.txt"
COUNT = 4000
MIN_USES = 5


def main() -> None:
    counts = collections.Counter()
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(root.rglob("*.py")):
        if "test" in path.parts or "tests" in path.parts or "site-packages" in path.parts:
            continue
        text = path.read_text(errors="ignore")
        for match in re.finditer(r'"""(.*?)"""|#([^\n]*)', text, re.S):
            prose = match.group(1) or match.group(2) or ""
            # plain words: not part of a dotted name, an identifier or a call
            for word in re.findall(r"(?<![\w.])[A-Za-z][a-z]{1,13}(?![\w.(])", prose):
                counts[word.lower()] += 1
    words = [word for word, uses in counts.most_common(COUNT) if uses >= MIN_USES]
    OUT.write_text("\n".join(words) + "\n")
    print(f"{len(words)} words -> {OUT}")


if __name__ == "__main__":
    main()
