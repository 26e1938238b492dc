module protocol-monitoring/standin

go 1.22
