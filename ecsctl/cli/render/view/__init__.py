"""``ecsctl view``: the self-contained HTML page (``page``), its data (``payload``) and the
local server of ``--serve`` (``server``)."""
