export { Speaker, type SpeakerOptions } from './speaker';
