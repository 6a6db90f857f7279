// The workspace the integration and e2e tests open: see test/fixtures/sampleWorkspace.ts.
export { prepareWorkspace } from '../fixtures/sampleWorkspace';
