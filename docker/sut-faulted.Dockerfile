# direct-conformance-sut:faulted: the example SUT with a fault switch on (default: it sends no
# processed MDN, which RX-01 catches). Another: --build-arg FAULT=accept-bad-auth.
FROM direct-conformance-sut:local
ARG FAULT=no-processed-mdn
ENV DC_FAULTS=${FAULT}
