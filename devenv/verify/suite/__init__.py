"""The live-environment suite behind `devenv test-integration` (a pytest suite
shipped in the package). Its pure parts (matrix comparison, control check,
report) live in ``devenv.verify.live_matrix`` and are unit-tested."""
