"""Command line: collapse-report OUT [--report-dir DIR]."""

import argparse
import logging
import sys

from . import __version__
from .aggregate import aggregate_group, group_members
from .checkpoints import NoCheckpointsError, read_run
from .report import write_report
from .settings import DEFAULT_IGNORED_SETTINGS

log = logging.getLogger("collapse_analysis")


class _WarningCollector(logging.Handler):
    """Logging handler that collects warning messages for the report's Warnings section."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="collapse-report",
        description="Aggregate the checkpoints of a collapse run across seeds and write "
                    "summary.h5, CSV tables, PNG figures, a GIF and report.md.")
    parser.add_argument("out_dir", metavar="OUT", help="output folder of 'collapse run', containing <member>/gen-NNN.h5")
    parser.add_argument("--report-dir", metavar="DIR", help="where to write the report (default: OUT/report)")
    parser.add_argument("--samples", type=int, default=64, metavar="N",
                        help="generated images per sample grid, 0 for no sample figures (default: 64, an 8x8 grid)")
    parser.add_argument("--ignore-setting", action="append", default=[], metavar="KEY",
                        help="configuration key (dotted, * as wildcard) that must not split members into "
                             "groups; repeatable, added to the defaults: " + ", ".join(DEFAULT_IGNORED_SETTINGS))
    parser.add_argument("--quiet", action="store_true", help="print warnings and errors only")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def main(argv=None):
    arguments = _parse_arguments(argv)
    if arguments.samples < 0:
        print(f"collapse-report: error: invalid --samples {arguments.samples}: must be 0 or more", file=sys.stderr)
        return 2

    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("collapse-report: %(levelname)s: %(message)s"))
    collector = _WarningCollector()
    log.handlers[:] = [console, collector]
    log.setLevel(logging.WARNING if arguments.quiet else logging.INFO)
    log.propagate = False

    report_dir = arguments.report_dir or f"{arguments.out_dir.rstrip('/')}/report"
    try:
        members = read_run(arguments.out_dir)
    except NoCheckpointsError as error:
        log.error("%s", error)
        return 1

    groups = group_members(members, DEFAULT_IGNORED_SETTINGS + tuple(arguments.ignore_setting))
    summaries = [aggregate_group(group) for group in groups]
    for summary in summaries:
        count = len(summary.group.members)
        log.info("group %s: %d member%s, generations 0..%d, seeds per generation %s",
                 summary.group.label, count, "" if count == 1 else "s", summary.n_generations - 1,
                 " ".join(str(n) for n in summary.n_seeds))

    try:
        report_path = write_report(members, summaries, arguments.out_dir, report_dir,
                                   collector.messages, sample_count=arguments.samples)
    except OSError as error:
        log.error("failed to write the report to %s: %s; choose a writable folder with --report-dir",
                  report_dir, error)
        return 1
    log.info("wrote %s", report_path)
    return 0
