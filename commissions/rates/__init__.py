"""Exchange rates: the stored rates, ``GET``/``PUT /api/v1/rates``, the rates page and its CSV import."""
