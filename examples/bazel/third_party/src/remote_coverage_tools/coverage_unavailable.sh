#!/bin/sh
echo "coverage is not available in the flywheel example's remote_coverage_tools shim" >&2
exit 1
