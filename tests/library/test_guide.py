"""The guide's node table names every node the pack registers."""
import re

from host_support import REPO


def test_every_node_has_a_row_in_the_guide():
    names = {name for path in (REPO / "nodes").glob("*.py")
             for name in re.findall(r'display_name="(SyncTweedies [^"]+)"', path.read_text())}
    guide = (REPO / "docs" / "guide.md").read_text()
    assert len(names) > 20, "the node definitions were read"
    assert [name for name in sorted(names) if f"| {name} |" not in guide] == []
