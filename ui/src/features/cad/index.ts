export { CadView } from './CadView';
