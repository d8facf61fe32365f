export { Speaker } from './speaker';
