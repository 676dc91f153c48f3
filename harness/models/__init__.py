"""Model families: classical scikit-learn estimators and torch networks (``models.torch``)."""
