# Shared helpers for the shell tests (sourced).

# Debian's python3 has h5py and numpy; a user may point PYTHON at another interpreter.
PYTHON=${PYTHON:-/usr/bin/python3}

# Open MPI runs as root only when the environment allows it; tests run as root in containers and CI.
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# run_mpi RANKS COMMAND...: runs COMMAND on RANKS processes with the launcher CMake found.
run_mpi() {
    local ranks=$1
    shift
    # shellcheck disable=SC2086 # the preflags are a list
    "${MPIEXEC:-mpirun}" -n "$ranks" ${MPIEXEC_PREFLAGS//;/ } "$@"
}
