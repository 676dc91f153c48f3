"""Engineered features: scikit-learn transformers, one YAML file each in ``suites/features/``.

Contract shared by every transformer here:

* input is the dataset's ``X`` flattened to 2-D, ``(n_samples, prod(shape))``;
  a transformer that needs the per-sample shape takes an ``input_shape`` param,
  and one that draws random numbers a ``random_state`` param: the runner sets
  both (``set_params``) when the param exists;
* output is a 2-D float array, in the input's float dtype;
* ``fit`` sees the training split only; ``transform`` never refits.

Modules: :mod:`.basic` (raw, PCA, polynomial, random kernel features),
:mod:`.signal` (FFT, summary statistics), :mod:`.image` (HOG),
:mod:`.rocket` (random convolution kernels).
"""
