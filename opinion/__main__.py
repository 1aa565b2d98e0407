"""python -m opinion: the same commands as `flask --app opinion`."""
from opinion.cli import main

main()
