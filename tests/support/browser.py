"""A page in headless Chromium (Debian's package): what it logged to the console and how many
of its images loaded. The check runs from a copy of the page with a small script added, so
the page under test stays script-free."""

import re
import shutil
import subprocess
from pathlib import Path

PROBE = """<script>
window.addEventListener("error", e => console.error("page error: " + e.message));
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.title = "probe " + ok + "/" + imgs.length;
});
</script>"""


def chromium() -> str | None:
    return shutil.which("chromium")


def load(page: Path, scratch: Path) -> dict:
    """{'console': [messages], 'images_ok': n, 'images': n} for PAGE opened from file://."""
    probe = scratch / f"probe-{page.name}"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>", 1))
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=10000", "--user-data-dir=" + str(scratch / "profile"),
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    console = re.findall(r":CONSOLE[^\]]*\] (.*)", proc.stderr)
    title = re.search(r"<title>probe (\d+)/(\d+)</title>", proc.stdout)
    if not title:
        raise AssertionError(f"the page never finished loading: {proc.stdout[:500]}")
    return {"console": console, "images_ok": int(title[1]), "images": int(title[2])}
