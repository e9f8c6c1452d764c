"""Copy the Palmer penguins CSV (shipped in the palmerpenguins package) to data/penguins.csv."""

from pathlib import Path

from noria.cli.demo import write_demo_data

print(write_demo_data(Path(__file__).parent / "data"))
