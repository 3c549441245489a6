module leaktop/tests/targets/go

go 1.19
