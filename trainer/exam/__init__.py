"""Certification exam mode (上岗/复训考核): papers, reproducible draws, rules, sealed records, verification."""
