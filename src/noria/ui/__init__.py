"""The dashboard: ``noria ui``, server-rendered pages over the project's stores.

- :mod:`noria.ui.app` is the Starlette app and its server (tokens, CSRF, actions, rendering);
- :mod:`noria.ui.pages` gathers what each page shows (runs, run, compare, models, monitor);
- :mod:`noria.ui.queries` reads the metadata store: pages of runs, comparisons;
- :mod:`noria.ui.histories` reads a run's metric keys and histories (one pass, no full count);
- :mod:`noria.ui.caches` keeps the key catalog and the sorted columns between requests;
- :mod:`noria.ui.datapages` the Data pages; :mod:`noria.ui.previews` artifact previews;
- :mod:`noria.ui.analysis` parameter importance and overlaid histories of the Compare page;
- :mod:`noria.ui.project` opens the project reading only the store section at start;
- :mod:`noria.ui.filters` parses the runs page's filter language into parameterised SQL;
- :mod:`noria.ui.svg` draws the charts as inline SVG;
- :mod:`noria.ui.auth` holds the login cookie and CSRF tokens.

Not here: anything the CLI or the model server needs; the dashboard only reads, except for the
promote and rollback actions, which go through :mod:`noria.registry`.
"""
