-- sessions waiting on the table now

