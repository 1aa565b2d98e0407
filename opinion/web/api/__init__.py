"""The JSON API under /api/v1: posts pushed in by other systems (`push`) and the read API with
personal tokens (`read`), described by openapi.json."""
