"""The 政务微博矩阵: collecting the units' own accounts (collect.py) and the matrix figures (figures.py)."""
