#!/usr/bin/env python3
"""A configuration folder for a partitioned deployment, as the cluster tests and benches use it.

    scripts/partitioned_config.py DIR [SECTION.KEY=VALUE ...]

Copies the repository's config/ to DIR/config, links DIR/assets to its assets/, sets
cluster.partitions to 3 with the sample city's regions spread over them in config/partitions.json
(north, central, west -> 0; east, oldtown -> 1; south, harbor -> 2: neighbours together, so that
each partition holds a part of the city), then applies each SECTION.KEY=VALUE (VALUE read as JSON
when it parses, else as a string: engine.lease=2s, ingest.wait_replicas=1). Prints the path of
DIR/config/opswall.json.
"""
import json, os, shutil, sys

REGIONS = {"north": 0, "central": 0, "west": 0, "east": 1, "oldtown": 1, "south": 2, "harbor": 2}


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    shutil.copytree(os.path.join(root, "config"), os.path.join(out, "config"))
    os.symlink(os.path.join(root, "assets"), os.path.join(out, "assets"))
    path = os.path.join(out, "config", "opswall.json")
    with open(path) as f:
        c = json.load(f)
    c["cluster"]["partitions"] = 3
    c["cluster"]["regions"] = "config/partitions.json"
    with open(os.path.join(out, "config", "partitions.json"), "w") as f:
        json.dump(REGIONS, f)
    for setting in argv[2:]:
        key, eq, value = setting.partition("=")
        section, dot, name = key.partition(".")
        if not eq or not dot or section not in c:
            print("partitioned_config.py: %s: expected SECTION.KEY=VALUE with a known section"
                  % setting, file=sys.stderr)
            return 2
        try:
            c[section][name] = json.loads(value)
        except ValueError:
            c[section][name] = value
    with open(path, "w") as f:
        json.dump(c, f, indent=1)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
