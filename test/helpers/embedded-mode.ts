/** Setup file of the e2e-embedded Jest project: the identity suites again, on the embedded wiring. */
process.env.KEEL_TEST_MODE = 'embedded';
