//! The budgeting domain shared by every Lambda function, the migration engine and the tools.
