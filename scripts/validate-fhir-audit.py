#!/usr/bin/env python3
"""Validates Tollgate's `audit.format: fhir` output with a real FHIR model library.

Every line of each FILE (or of stdin) must be one HL7 FHIR R4 AuditEvent: it is parsed with
fhir.resources' R4B model (R4B left AuditEvent as R4 has it), which enforces cardinalities,
types, required members and rejects unknown ones. Prints one line per file and exits 1 on the
first invalid record, naming its line and the library's complaint.

Usage: validate-fhir-audit.py [FILE...]   (needs PyPI fhir.resources on PYTHONPATH)
"""
import json
import sys

from fhir.resources.R4B.auditevent import AuditEvent


def validate(name, lines):
    count = 0
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            AuditEvent.model_validate(json.loads(line))
        except Exception as error:  # the library's complaint is the finding
            print("%s:%d: not a valid FHIR R4 AuditEvent: %s" % (name, number, str(error)[:2000]), file=sys.stderr)
            sys.exit(1)
        count += 1
    print("%s: %d valid FHIR R4 AuditEvent records" % (name, count))
    return count


def main():
    if len(sys.argv) == 1:
        validate("stdin", sys.stdin)
        return
    for path in sys.argv[1:]:
        with open(path) as source:
            validate(path, source)


if __name__ == "__main__":
    main()
