// filled in by the interp work
