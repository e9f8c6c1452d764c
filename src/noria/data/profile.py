"""Profiles: one-pass, mergeable statistics of a dataset, computed by DuckDB while it streams.

:func:`profile_data` reads a file, a folder, a glob or a pandas DataFrame through DuckDB and
returns a :class:`Profile`: per column the row count, nulls, distinct count, min, max, mean,
standard deviation, a quantile sketch, a histogram on fixed edges, the top values with counts,
string lengths, and for timestamps the range and the gaps. The data is never loaded into pandas:
three scans read the file, each only the columns it needs: an aggregate query of the scalars
(counts, min, max, means); one stream of the numbers and times as Arrow batches, whose sketch
buckets, histogram bins, HyperLogLog registers, time buckets and squared deviations NumPy counts
batch by batch (``bincount``, an order of magnitude cheaper than a SQL ``GROUP BY`` per part);
and the value counts of the string columns (``GROUPING SETS``), from which the top values, the
distinct count, the HyperLogLog registers, min, max and lengths come (over the distinct values,
not the rows).

Profiles are **mergeable**: ``merge(profile(a), profile(b)) == profile(a ∪ b)`` when ``b`` (or both)
is profiled against the same reference (``profile_data(b, reference=profile(a))``), which fixes
the histogram edges and the time buckets (the rank sketch excepted, which merges within its error
bound). What is exact and what is approximate:

=====================  ==================================================================
part                   merge
=====================  ==================================================================
rows, nulls, min, max  exact (sums, min, max)
mean, std              exact up to floating point (Chan et al.'s parallel formula on M2)
histogram              exact: fixed edges ``start + i * step``; values outside are counted
                       as ``below`` / ``above``
quantile sketch        exact merge (bucket counts add) of a DDSketch-style log-bucket sketch
                       with relative accuracy :data:`SKETCH_ALPHA` (1 %), whose keys are the
                       same in every profile: what the drift tests compare bucket by bucket
rank sketch            the quantiles: a KLL sketch (:mod:`noria.data.ranks`) whose error is in
                       rank, not in value: a quantile is a value of the data within about
                       0.5 % of the rank asked, whatever the magnitude and range (1 % of the
                       value is 20 years at 2,000); exact below about 400 values; merged
                       within the same bound (levels added, then compacted), not bit for bit
distinct               exact when every value is kept (``values_complete``: at most
                       :data:`MAX_VALUES` distinct strings); else a HyperLogLog estimate from
                       :data:`HLL_REGISTERS` registers (~3 % standard error), merged exactly
                       by taking the larger register
top values             exact counts when both sides keep every value; else the counts of the
                       values either side kept (a lower bound for a value the other side did
                       not keep), the largest :data:`TOP_K` kept
time buckets, gaps     exact at the coarser of the two bucket widths (widths divide each other)
=====================  ==================================================================

NaN in a float column counts as null (as in pandas). Booleans have counts of ``true``/``false``;
other types (lists, structs, blobs) are profiled as their text.

Where each part lives (this module is the front door and re-exports the public names):

=====================================  ==========================================================
:mod:`noria.data.profile_record`       :class:`ColumnProfile`, :class:`Profile`, their JSON
                                       form and :func:`merge_profiles`
:mod:`noria.data.profiling`            the DuckDB pass: :func:`profile_data`,
                                       :func:`profile_source`
:mod:`noria.data.scan`                 opening a file or frame for DuckDB: :func:`open_source`,
                                       :class:`DataSource`, :func:`quote`
:mod:`noria.data.sketch`               the log-bucket quantile sketch
:mod:`noria.data.ranks`                the KLL rank sketch
:mod:`noria.data.hll`                  HyperLogLog
:mod:`noria.data.histogram`            histograms, time buckets, value counts
:mod:`noria.data.kinds`                the column kinds (:func:`kind_of`)
=====================================  ==========================================================

Not here: the schema inferred from a profile (:mod:`noria.data.schema`), checks of a batch
(:mod:`noria.data.validate`), drift tests, the HTML report (:mod:`noria.reports.data_report`).
"""

from __future__ import annotations

from noria.data.histogram import HIST_BINS
from noria.data.hll import HLL_REGISTERS
from noria.data.kinds import kind_of
from noria.data.profile_record import (
    MAX_VALUES,
    QUANTILES,
    TOP_K,
    ColumnProfile,
    Profile,
    merge_profiles,
)
from noria.data.profiling import profile_data, profile_source
from noria.data.scan import DataSource, open_source, quote
from noria.data.sketch import SKETCH_ALPHA

__all__ = [
    "HIST_BINS",
    "HLL_REGISTERS",
    "MAX_VALUES",
    "QUANTILES",
    "SKETCH_ALPHA",
    "TOP_K",
    "ColumnProfile",
    "DataSource",
    "Profile",
    "kind_of",
    "merge_profiles",
    "open_source",
    "profile_data",
    "profile_source",
    "quote",
]
