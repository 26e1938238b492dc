package elasticsearch

// NodeID is the stand-in node's id, for the tests of package elasticsearch_test.
const NodeID = esNodeID
