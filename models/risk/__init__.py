"""Explainable risk: factors as data, one evaluator, every contribution stored beside the score."""
