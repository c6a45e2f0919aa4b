export { SignInView } from './SignInView';
export { SetupView } from './SetupView';
