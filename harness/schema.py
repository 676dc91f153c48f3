"""The record schema: one place for the names of the columns every trial writes.

Names listed here are a contract with tests, reports and users: add columns freely,
never rename these.
"""

#: 2: records carry ``split`` (the train/test split, apart from the model's ``seed``) and
#: ``val_accuracy``; :func:`harness.store.load` fills them for schema-1 records (split = seed).
SCHEMA_VERSION = 2

#: Columns every record carries, in this order, whatever its status.
RECORD_COLUMNS = (
    "run_id", "suite", "key", "trial_id",
    "dataset", "features", "model", "family",
    "raw_input", "device", "split", "seed", "n_train", "n_test", "n_features", "n_classes",
    "status", "error", "skip_reason",
    "accuracy", "balanced_accuracy", "f1_macro", "log_loss", "val_accuracy",
    "features_s", "fit_s", "predict_s", "cpu_s", "peak_rss_mb", "threads",
    "started_at",
)

#: Extra columns a deep (torch) trial adds; NaN or absent for other families.
DEEP_COLUMNS = (
    "n_params", "epochs", "steps", "samples_per_s", "epoch_s", "warmup_s", "peak_gpu_mb",
    "flops_per_sample", "achieved_tflops", "time_to_target_s",
)

#: Columns of a suite with ``tuning:`` (``harness/tuning.py``), on every record it writes:
#: ``tuning`` is ``default`` or ``tuned``; ``tuning_budget`` / ``tuning_budget_s`` the suite's budget
#: in candidates / seconds; ``tuning_of`` the key of the default trial a tuned one tunes;
#: ``tuned_params`` the chosen parameters (JSON); ``tuning_s`` the search's wall time, apart
#: from ``fit_s`` (the chosen model's fit); ``tuning_candidates`` the candidates it tried.
TUNING_COLUMNS = ("tuning", "tuning_budget", "tuning_budget_s", "tuning_of", "tuned_params", "tuning_s",
                  "tuning_candidates")
#: The values of ``tuning``.
DEFAULT, TUNED = TUNINGS = ("default", "tuned")

METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "log_loss")
#: ``interrupted``: a SIGINT/SIGTERM stopped the trial; ``resume=RUN_DIR`` runs it again.
STATUSES = ("ok", "failed", "timeout", "skipped", "interrupted")
#: Why a trial did not run (``skip_reason``; "" for trials that ran).
NO_CUDA, INTERRUPTED = SKIP_REASONS = ("no_cuda", "interrupted")
#: A model's family (its config's ``family``): what the findings compare.
CLASSICAL, PERCEPTRON, DEEP = FAMILIES = ("classical", "perceptron", "deep")
#: ``multichannel``: signals of several channels, ``(n, channels, length)`` (the UEA archive's multivariate series).
KINDS = ("image", "signal", "tabular", "points", "multichannel")

#: Prefix of flattened hyperparameter columns: model params are ``p_<name>``,
#: feature and dataset params ``p_features_<name>`` and ``p_dataset_<name>``.
PARAM_PREFIX = "p_"
