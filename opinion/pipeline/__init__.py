"""The pipeline: every stage of PRODUCT.md called in order, for live collection, import and
`analyze`. `analysis` runs the text stages over plain entries (no database); `batch` stores a batch
and hands it from stage to stage; `runs` drives a source's run and a file import through it."""
