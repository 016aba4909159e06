export * from './evaluation';
export * from './webhook-payload';
