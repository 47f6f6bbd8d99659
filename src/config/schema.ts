/** The validated configuration's shape. Each setting is declared, with its default, in settings.ts. */
export { configSchema, type Config } from './settings.ts';
