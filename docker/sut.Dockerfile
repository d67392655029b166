# direct-conformance-sut:local: the example SUT, the reference HISP configured as a vendor's
# system sut.direct.test (docker/sut-hisp.toml). Needs DC_HARNESS_DNS and DC_HARNESS_BACKBONE;
# DC_FAULTS turns fault switches on.
FROM direct-conformance:local
EXPOSE 25 587 110
CMD ["hisp", "--config", "/etc/direct-conformance/sut-hisp.toml"]
