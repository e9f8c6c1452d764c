"""HTML reports that open offline: Jinja2 templates, plots drawn by matplotlib as inline SVG.

``noria.reports.data_report`` renders the data report (per-column statistics, histograms, failed
checks with examples) from the JSON dicts of a profile and a validation result. Reports read
those dicts only, so that they depend on no domain module; nothing here computes statistics.
"""
