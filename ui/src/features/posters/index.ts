export { PostersView } from './PostersView';
