"""Reading complaint spreadsheets (CSV, TSV, xlsx) into records a case can be built from.

Pure of the workspace: these modules read the user's input file and turn rows
into values; ``cmtool.services.importer`` decides what to write.
"""
