import middy from '@middy/core';

/** The cold-start baseline: a one-line middy handler, bundled like Rota's functions. */
export const handler = middy(async () => ({ statusCode: 200 }));
