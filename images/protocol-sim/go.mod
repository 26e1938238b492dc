module protocol-monitoring/protocol-sim

go 1.22
