"""Log lines a job writes, as data: fake secrets of every kind (`secrets`) and ordinary lines that
are no secret (`ordinary`). Used by the redaction tests and the redaction benchmark."""
