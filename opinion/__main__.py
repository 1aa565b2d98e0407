"""python -m opinion: the same commands as `flask --app opinion`."""
from opinion import create_app
from opinion.cli import main

main(create_app)
